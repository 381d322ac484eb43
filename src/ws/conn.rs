//! The sans-IO WebSocket server connection (RFC 6455 sections 5-7): received bytes in, events
//! and frames out. It never sees a socket, a clock or a callback: the caller pulls one event at
//! a time with [`WsConn::next`] and writes its own frames with [`WsConn::send`] / [`WsConn::end`].
//!
//! Complete single-frame messages are unmasked in place and handed out borrowed from the input
//! (no copy); fragmented messages and frames spread over several reads are assembled in a
//! buffer that exists only while such a message is in flight.

use std::mem;

use tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode as RawOpCode};

use super::codec::{self, MAX_CONTROL_PAYLOAD, OpCode, RSV1_BIT};
use super::deflate::context::InflateError;
use super::deflate::options::CompressOptions;
use super::deflate::{LoopDeflate, SocketDeflate};
use super::utf8;

/// Close code for a protocol error (RFC 6455 section 7.4.1).
pub(crate) const PROTOCOL_ERROR: u16 = 1002;
/// Close code for a text message that is not UTF-8 (or a close reason that is not).
pub(crate) const INVALID_PAYLOAD: u16 = 1007;
/// Close code for a message over the size limit.
pub(crate) const MESSAGE_TOO_BIG: u16 = 1009;
/// Close code for an unexpected condition on the server: a callback panicked.
pub(crate) const INTERNAL_ERROR: u16 = 1011;
/// Reported when a close frame carried no code (never sent on the wire).
pub(crate) const NO_STATUS: u16 = 1005;
/// Reported when the connection ended without a close frame (never sent on the wire).
pub(crate) const ABNORMAL: u16 = 1006;

/// Where the closing handshake stands (RFC 6455 section 7).
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseState {
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's; received data is dropped.
    Sent,
    /// Both sides closed, or the connection failed: only the TCP close remains.
    Done,
}

/// A received message's payload: borrowed from the input when it arrived in one piece,
/// owned when it had to be assembled.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Debug)]
pub enum Payload<'a> {
    /// Unmasked in place in the caller's input.
    Borrowed(&'a [u8]),
    /// Assembled from fragments or several reads.
    Owned(Vec<u8>),
}

impl std::ops::Deref for Payload<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Payload::Borrowed(b) => b,
            Payload::Owned(v) => v,
        }
    }
}

/// What one call to [`WsConn::next`] found.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Debug)]
pub enum Event<'a> {
    /// A whole text (valid UTF-8) or binary message.
    Message(Payload<'a>, OpCode),
    /// A ping; the pong with the same payload is already written.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's close frame: its code (1005, `NO_STATUS`, if none) and reason. If we had not
    /// closed yet, the close frame answering it is already written.
    Close(u16, &'a str),
    /// The peer broke the protocol; a close frame with this code is written (unless we had
    /// closed already) and nothing more is read.
    Fail(u16),
}

/// A data frame whose payload is still arriving.
#[derive(Clone, Copy, Debug)]
struct Partial {
    remaining: u64,
    mask: [u8; 4],
    /// Payload bytes already unmasked, modulo 4.
    offset: u8,
    fin: bool,
}

/// One WebSocket connection's protocol state. Owns no buffer between messages.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Debug)]
pub struct WsConn {
    /// The message being assembled; empty (unallocated) otherwise.
    message: Vec<u8>,
    /// Opcode of the message in progress (after its first frame).
    kind: Option<OpCode>,
    /// Length of the prefix of `message` known to be valid UTF-8 (messages are limited to
    /// `u32::MAX` bytes, see `WebSocketBehavior::max_payload_length`; `u32` keeps the slab
    /// entry small).
    utf8_checked: u32,
    partial: Option<Partial>,
    close_state: CloseState,
    /// The message in progress is compressed (RSV1 on its first frame, RFC 7692 section 6).
    compressed: bool,
}

/// What inflates a socket's compressed messages: its negotiated permessage-deflate and the
/// loop's shared contexts.
pub(crate) struct Inflate<'d> {
    pub(crate) socket: SocketDeflate,
    /// The socket's slab key (for its dedicated context).
    pub(crate) key: usize,
    pub(crate) shared: &'d mut LoopDeflate,
    pub(crate) options: &'d CompressOptions,
}

/// Compressed bytes a message may take: its size limit and deflate's worst-case growth
/// (stored blocks: 5 bytes per 64 KiB) with room to spare.
fn compressed_limit(max_payload: usize) -> usize {
    max_payload.saturating_add(max_payload / 1024 + 64)
}

impl Default for WsConn {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
impl WsConn {
    /// An open connection, right after the handshake.
    pub const fn new() -> Self {
        WsConn {
            message: Vec::new(),
            kind: None,
            utf8_checked: 0,
            partial: None,
            close_state: CloseState::Open,
            compressed: false,
        }
    }

    /// The closing handshake's state.
    pub fn close_state(&self) -> CloseState {
        self.close_state
    }

    /// Consumes bytes from the front of `input` up to and including the next event.
    ///
    /// Returns how many bytes were used and the event, if one completed. Unused bytes (a
    /// partial frame header or control frame) must be offered again with more data.
    /// Frames (pong, close) the protocol requires in answer are appended to `out`.
    /// Messages longer than `max_payload` bytes fail the connection with close code 1009.
    #[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
    pub fn next<'a>(
        &mut self,
        input: &'a mut [u8],
        out: &mut Vec<u8>,
        max_payload: usize,
    ) -> (usize, Option<Event<'a>>) {
        self.next_inflating(input, out, max_payload, None)
    }

    /// [`next`](Self::next) on a socket that negotiated permessage-deflate when `deflate` is
    /// given: a data message whose first frame has RSV1 set is inflated (at most
    /// `max_payload` bytes, else close 1009; a corrupt stream or inflated text that is not
    /// UTF-8 gets 1007). Without `deflate`, RSV1 is a protocol error (1002).
    pub(crate) fn next_inflating<'a>(
        &mut self,
        input: &'a mut [u8],
        out: &mut Vec<u8>,
        max_payload: usize,
        mut deflate: Option<Inflate<'_>>,
    ) -> (usize, Option<Event<'a>>) {
        let mut pos = 0;
        loop {
            if self.close_state == CloseState::Done {
                return (input.len(), None);
            }
            if let Some(partial) = self.partial {
                match self.continue_payload(partial, &mut input[pos..]) {
                    Progress::Used(n) => pos += n,
                    Progress::NeedMore(n) => return (pos + n, None),
                    Progress::BadUtf8 => {
                        return (input.len(), Some(self.fail(out, INVALID_PAYLOAD)));
                    }
                }
                if partial.fin && self.partial.is_none() {
                    let kind = self.kind.take().unwrap_or(OpCode::Binary);
                    self.utf8_checked = 0;
                    let message = mem::take(&mut self.message);
                    let compressed = mem::take(&mut self.compressed);
                    if self.close_state == CloseState::Open {
                        let message = if compressed {
                            match inflate(&mut deflate, &message, kind, max_payload) {
                                Ok(inflated) => inflated,
                                Err(code) => return (input.len(), Some(self.fail(out, code))),
                            }
                        } else {
                            message
                        };
                        return (pos, Some(Event::Message(Payload::Owned(message), kind)));
                    }
                }
                continue;
            }
            let header = match codec::parse_header(&input[pos..]) {
                Ok(Some(h)) => h,
                Ok(None) => return (pos, None),
                Err(_) => return (input.len(), Some(self.fail(out, PROTOCOL_ERROR))),
            };
            // RSV1 means "compressed" on the first frame of a data message, and only with
            // permessage-deflate negotiated (RFC 7692 section 6.1); any other reserved bit
            // is an error (RFC 6455 section 5.2).
            let compressed_start = header.rsv_bits == RSV1_BIT
                && deflate.is_some()
                && matches!(header.opcode, RawOpCode::Data(Data::Text | Data::Binary));
            let Some(mask) = header.mask.filter(|_| !header.rsv || compressed_start) else {
                // Unmasked client frame, or a reserved bit without a negotiated extension.
                return (input.len(), Some(self.fail(out, PROTOCOL_ERROR)));
            };
            let available = (input.len() - pos - header.header_len) as u64;
            let data = match header.opcode {
                RawOpCode::Control(control) => {
                    if !header.fin || header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                        return (input.len(), Some(self.fail(out, PROTOCOL_ERROR)));
                    }
                    if available < header.payload_len {
                        return (pos, None);
                    }
                    let start = pos + header.header_len;
                    let end = start + header.payload_len as usize;
                    let payload = &mut input[start..end];
                    codec::unmask(payload, mask, 0);
                    let event = match control {
                        Control::Ping => {
                            if self.close_state == CloseState::Open {
                                codec::write_frame(out, OpCode::Pong.raw(), true, payload);
                            }
                            Event::Ping(payload)
                        }
                        Control::Pong => Event::Pong(payload),
                        _ => self.on_close(payload, out),
                    };
                    return (end, Some(event));
                }
                RawOpCode::Data(data) => data,
            };
            let kind = match (data, self.kind) {
                (Data::Continue, Some(kind)) => kind,
                (Data::Text, None) => OpCode::Text,
                (Data::Binary, None) => OpCode::Binary,
                // A continuation with nothing to continue, or a new message inside another.
                _ => return (input.len(), Some(self.fail(out, PROTOCOL_ERROR))),
            };
            let compressed = if self.kind.is_none() {
                compressed_start
            } else {
                self.compressed
            };
            let limit = match compressed {
                true => compressed_limit(max_payload),
                false => max_payload,
            };
            if self.message.len() as u64 + header.payload_len > limit as u64 {
                return (input.len(), Some(self.fail(out, MESSAGE_TOO_BIG)));
            }
            if header.fin && self.kind.is_none() && available >= header.payload_len {
                // The common case: a whole message in one frame, already received.
                let start = pos + header.header_len;
                let end = start + header.payload_len as usize;
                if self.close_state != CloseState::Open {
                    // We closed: the peer's data is dropped unread.
                    pos = end;
                    continue;
                }
                let total = input.len();
                let payload = &mut input[start..end];
                codec::unmask(payload, mask, 0);
                if compressed {
                    return match inflate(&mut deflate, payload, kind, max_payload) {
                        Ok(inflated) => (end, Some(Event::Message(Payload::Owned(inflated), kind))),
                        Err(code) => (total, Some(self.fail(out, code))),
                    };
                }
                if kind == OpCode::Text && std::str::from_utf8(payload).is_err() {
                    return (total, Some(self.fail(out, INVALID_PAYLOAD)));
                }
                return (end, Some(Event::Message(Payload::Borrowed(payload), kind)));
            }
            self.kind = Some(kind);
            self.compressed = compressed;
            self.partial = Some(Partial {
                remaining: header.payload_len,
                mask,
                offset: 0,
                fin: header.fin,
            });
            pos += header.header_len;
        }
    }

    /// Takes what has arrived of the current data frame's payload into `message`.
    fn continue_payload(&mut self, mut partial: Partial, input: &mut [u8]) -> Progress {
        let take = partial.remaining.min(input.len() as u64) as usize;
        let chunk = &mut input[..take];
        codec::unmask(chunk, partial.mask, usize::from(partial.offset));
        partial.offset = ((usize::from(partial.offset) + take) & 3) as u8;
        partial.remaining -= take as u64;
        let frame_done = partial.remaining == 0;
        // After our close frame, data is dropped unread and unchecked.
        if self.close_state == CloseState::Open {
            self.message.extend_from_slice(chunk);
            // A compressed text message is checked once inflated.
            if self.kind == Some(OpCode::Text) && !self.compressed {
                let mut checked = self.utf8_checked as usize;
                let last = frame_done && partial.fin;
                let valid = utf8::advance(&self.message, &mut checked, last);
                // Fits: the message is at most `max_payload`, itself at most `u32::MAX`.
                self.utf8_checked = u32::try_from(checked).unwrap_or(u32::MAX);
                if !valid {
                    return Progress::BadUtf8;
                }
            }
        }
        if frame_done {
            self.partial = None;
            Progress::Used(take)
        } else {
            self.partial = Some(partial);
            Progress::NeedMore(take)
        }
    }

    /// The peer's close frame (RFC 6455 section 5.5.1): validate, answer, report.
    fn on_close<'a>(&mut self, payload: &'a [u8], out: &mut Vec<u8>) -> Event<'a> {
        let (code, reason) = match payload {
            [] => (None, ""),
            [_] => return self.fail(out, PROTOCOL_ERROR),
            [hi, lo, reason @ ..] => {
                let code = u16::from_be_bytes([*hi, *lo]);
                if !CloseCode::from(code).is_allowed() {
                    return self.fail(out, PROTOCOL_ERROR);
                }
                match std::str::from_utf8(reason) {
                    Ok(reason) => (Some(code), reason),
                    Err(_) => return self.fail(out, INVALID_PAYLOAD),
                }
            }
        };
        if self.close_state == CloseState::Open {
            // Echo the code (RFC 6455 section 5.5.1: "typically echos the status code").
            codec::write_close(out, code, "");
        }
        self.finish();
        Event::Close(code.unwrap_or(NO_STATUS), reason)
    }

    /// Fails the connection (RFC 6455 section 7.1.7): close frame with `code`, stop reading.
    fn fail(&mut self, out: &mut Vec<u8>, code: u16) -> Event<'static> {
        if self.close_state == CloseState::Open {
            codec::write_close(out, Some(code), "");
        }
        self.finish();
        Event::Fail(code)
    }

    /// Nothing more will be read: free the assembly buffer.
    fn finish(&mut self) {
        self.close_state = CloseState::Done;
        self.drop_message();
        self.kind = None;
        self.partial = None;
        self.compressed = false;
    }

    /// Frees the message being assembled and its UTF-8 progress, which indexes into it.
    fn drop_message(&mut self) {
        self.message = Vec::new();
        self.utf8_checked = 0;
    }

    /// Appends a message frame to `out`; false (nothing written) once we have closed.
    pub fn send(&self, out: &mut Vec<u8>, payload: &[u8], opcode: OpCode) -> bool {
        if self.close_state != CloseState::Open {
            return false;
        }
        let payload = if opcode.is_control() {
            &payload[..payload.len().min(MAX_CONTROL_PAYLOAD)]
        } else {
            payload
        };
        codec::write_frame(out, opcode.raw(), true, payload);
        true
    }

    /// Appends a message frame with `payload` compressed by `deflate` (RSV1 set); false
    /// (nothing written) once we have closed.
    pub(crate) fn send_compressed(
        &self,
        out: &mut Vec<u8>,
        payload: &[u8],
        opcode: OpCode,
        (deflate, key): (SocketDeflate, usize),
        options: &CompressOptions,
        shared: &mut LoopDeflate,
    ) -> bool {
        if self.close_state != CloseState::Open {
            return false;
        }
        deflate.write_frame(key, options, shared, out, payload, opcode);
        true
    }

    /// Starts the closing handshake: appends a close frame with `code` and `reason` (cut to
    /// fit 123 bytes). Codes that may not be sent (1005, 1006, 1015, or outside the RFC 6455
    /// section 7.4 ranges) give an empty close payload. False if we had closed already.
    pub fn end(&mut self, out: &mut Vec<u8>, code: u16, reason: &str) -> bool {
        if self.close_state != CloseState::Open {
            return false;
        }
        let code = Some(code).filter(|&c| CloseCode::from(c).is_allowed());
        codec::write_close(out, code, reason);
        self.close_state = CloseState::Sent;
        self.drop_message();
        true
    }

    /// Marks the connection done without a close frame (the TCP connection is going away).
    pub(crate) fn abort(&mut self) {
        self.finish();
    }
}

/// Inflates a whole compressed message and checks a text one is UTF-8; the close code to
/// fail with otherwise.
fn inflate(
    deflate: &mut Option<Inflate<'_>>,
    compressed: &[u8],
    kind: OpCode,
    max_payload: usize,
) -> Result<Vec<u8>, u16> {
    let Some(d) = deflate else {
        return Err(PROTOCOL_ERROR);
    };
    let message = d
        .socket
        .inflate(d.key, d.options, d.shared, compressed, max_payload)
        .map_err(|e| match e {
            InflateError::TooBig => MESSAGE_TOO_BIG,
            InflateError::Corrupt => INVALID_PAYLOAD,
        })?;
    if kind == OpCode::Text && std::str::from_utf8(&message).is_err() {
        d.shared.recycle(message);
        return Err(INVALID_PAYLOAD);
    }
    Ok(message)
}

/// How far the payload of a frame in progress got.
enum Progress {
    /// The frame is complete after this many bytes.
    Used(usize),
    /// All input used (this many bytes); the frame needs more.
    NeedMore(usize),
    /// The text message is not UTF-8.
    BadUtf8,
}

#[cfg(test)]
mod tests;
