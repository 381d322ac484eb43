//! What a bridged message looks like on the broker: a 12-byte head (`uw1`, the opcode, the
//! origin process's id) before the payload, so a process skips its own messages (it already
//! delivered them) and text stays text. The broker sees opaque bytes.

use crate::ws::OpCode;

/// Magic and version.
const MAGIC: &[u8; 3] = b"uw1";

/// Bytes before the payload.
pub(crate) const HEAD_BYTES: usize = 12;

/// `payload` wrapped for the broker, from process `origin`.
pub(crate) fn encode(origin: u64, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEAD_BYTES + payload.len());
    out.extend_from_slice(MAGIC);
    out.push(match opcode {
        OpCode::Binary => 2,
        _ => 1,
    });
    out.extend_from_slice(&origin.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The origin, opcode and payload of a message from the broker; `None` if it is not one of
/// ours (another publisher on the same channel, or damaged).
pub(crate) fn decode(bytes: &[u8]) -> Option<(u64, OpCode, &[u8])> {
    let (head, payload) = bytes.split_at_checked(HEAD_BYTES)?;
    if &head[..3] != MAGIC {
        return None;
    }
    let opcode = match head[3] {
        1 => OpCode::Text,
        2 => OpCode::Binary,
        _ => return None,
    };
    let origin = u64::from_be_bytes(head[4..12].try_into().ok()?);
    Some((origin, opcode, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_foreign_bytes() {
        let bytes = encode(42, OpCode::Binary, b"\x00\xff");
        assert_eq!(decode(&bytes), Some((42, OpCode::Binary, &b"\x00\xff"[..])));
        assert_eq!(
            decode(&encode(7, OpCode::Text, b"")),
            Some((7, OpCode::Text, &b""[..]))
        );
        assert_eq!(decode(b"hello"), None);
        assert_eq!(decode(b"uw1\x09........"), None);
        assert_eq!(decode(b"xx1\x01........"), None);
    }
}
