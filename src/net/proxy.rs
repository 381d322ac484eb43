//! The PROXY protocol header (HAProxy's PROXY protocol, versions 1 and 2), read before
//! anything else on a listener that asks for it: the client's address as the proxy or load
//! balancer in front saw it. Parsed by the `ppp` crate; here only the framing around it (how
//! much to wait for, when to give up).

use std::net::SocketAddr;

use ppp::{PartialResult, v1, v2};

/// Most bytes a header may take before it is refused: a version 1 header is at most 107
/// bytes; a version 2 header may carry TLVs, which proxies keep short.
pub(crate) const MAX_HEADER_BYTES: usize = 4096;
/// A version 1 header's longest line, CRLF included.
const V1_MAX_BYTES: usize = 107;

/// What the bytes received so far make of a PROXY header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub enum ProxyHeader {
    /// More bytes are needed.
    Incomplete,
    /// A header of `len` bytes; `source` is the client's address (`None` for a health check
    /// from the proxy itself: version 1 `UNKNOWN`, version 2 `LOCAL`, or a non-IP family).
    Complete {
        /// Bytes the header took.
        len: usize,
        /// The client's address.
        source: Option<SocketAddr>,
    },
    /// Not a PROXY header (missing, garbage, or too long): the connection closes.
    Invalid,
}

/// Reads a PROXY header (version 1 or 2) from the start of `input`.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub fn read_header(input: &[u8]) -> ProxyHeader {
    // Neither signature can start here: no need to wait for more.
    let v1_prefix = b"PROXY ";
    let v2_prefix = b"\r\n\r\n\0\r\nQUIT\n";
    let starts = |prefix: &[u8]| {
        let n = input.len().min(prefix.len());
        input[..n] == prefix[..n]
    };
    if starts(v1_prefix) {
        return read_v1(input);
    }
    if !starts(v2_prefix) {
        return ProxyHeader::Invalid;
    }
    let result = v2::Header::try_from(input);
    if result.is_incomplete() {
        return match input.len() < MAX_HEADER_BYTES {
            true => ProxyHeader::Incomplete,
            false => ProxyHeader::Invalid,
        };
    }
    match result {
        Ok(header) if header.len() <= MAX_HEADER_BYTES => {
            let source = match (header.command, header.addresses) {
                (v2::Command::Proxy, v2::Addresses::IPv4(a)) => {
                    Some((a.source_address, a.source_port).into())
                }
                (v2::Command::Proxy, v2::Addresses::IPv6(a)) => {
                    Some((a.source_address, a.source_port).into())
                }
                _ => None,
            };
            ProxyHeader::Complete {
                len: header.len(),
                source,
            }
        }
        _ => ProxyHeader::Invalid,
    }
}

/// A version 1 header: one line of at most 107 bytes, judged only once its CRLF has
/// arrived (`ppp` calls some prefixes of a good line bad, e.g. one ending after the space
/// before the last port, so a line split across reads would otherwise be refused).
fn read_v1(input: &[u8]) -> ProxyHeader {
    let Some(end) = input.windows(2).position(|w| w == b"\r\n").map(|i| i + 2) else {
        return match input.len() < V1_MAX_BYTES {
            true => ProxyHeader::Incomplete,
            false => ProxyHeader::Invalid,
        };
    };
    if end > V1_MAX_BYTES {
        return ProxyHeader::Invalid;
    }
    match v1::Header::try_from(&input[..end]) {
        Ok(header) => ProxyHeader::Complete {
            len: end,
            source: match header.addresses {
                v1::Addresses::Tcp4(a) => Some((a.source_address, a.source_port).into()),
                v1::Addresses::Tcp6(a) => Some((a.source_address, a.source_port).into()),
                v1::Addresses::Unknown => None,
            },
        },
        Err(_) => ProxyHeader::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(command: u8, family: u8, addresses: &[u8]) -> Vec<u8> {
        let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
        header.push(0x20 | command);
        header.push(family);
        header.extend_from_slice(&(addresses.len() as u16).to_be_bytes());
        header.extend_from_slice(addresses);
        header
    }

    #[test]
    fn versions_one_and_two() {
        let line = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /";
        assert_eq!(
            read_header(line),
            ProxyHeader::Complete {
                len: line.len() - 5,
                source: Some("192.0.2.1:56324".parse().unwrap())
            }
        );
        let six = b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 80\r\n";
        assert_eq!(
            read_header(six),
            ProxyHeader::Complete {
                len: six.len(),
                source: Some("[2001:db8::1]:4000".parse().unwrap())
            }
        );
        assert_eq!(
            read_header(b"PROXY UNKNOWN\r\n"),
            ProxyHeader::Complete {
                len: 15,
                source: None
            }
        );
        let mut ipv4 = vec![10, 0, 0, 7, 10, 0, 0, 1];
        ipv4.extend_from_slice(&1234u16.to_be_bytes());
        ipv4.extend_from_slice(&80u16.to_be_bytes());
        let header = v2(1, 0x11, &ipv4);
        assert_eq!(
            read_header(&header),
            ProxyHeader::Complete {
                len: header.len(),
                source: Some("10.0.0.7:1234".parse().unwrap())
            }
        );
        let local = v2(0, 0x00, &[]);
        assert_eq!(
            read_header(&local),
            ProxyHeader::Complete {
                len: 16,
                source: None
            }
        );
        assert_eq!(read_header(&header[..10]), ProxyHeader::Incomplete);
        assert_eq!(read_header(b"PROXY TCP4 192.0"), ProxyHeader::Incomplete);
        assert_eq!(read_header(b"GET / HTTP/1.1\r\n"), ProxyHeader::Invalid);
        assert_eq!(
            read_header(b"PROXY TCP4 nonsense\r\n"),
            ProxyHeader::Invalid
        );
        assert_eq!(
            read_header(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
            ProxyHeader::Complete {
                len: 32,
                source: Some("1.2.3.4:1".parse().unwrap())
            }
        );
        assert_eq!(read_header(&[b'P'; 1]), ProxyHeader::Incomplete);
        // Found by the fuzz target: every prefix of a good line waits for more (`ppp` alone
        // refuses the one ending after the space before the last port).
        let good = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
        for end in 0..good.len() {
            assert_eq!(read_header(&good[..end]), ProxyHeader::Incomplete, "{end}");
        }
        assert_eq!(read_header(&[b'A'; 120]), ProxyHeader::Invalid);
        assert_eq!(read_header(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 and then a very long tail that never ends with a line break at all, way past 107"), ProxyHeader::Invalid);
        assert_eq!(read_header(&[0u8; 20]), ProxyHeader::Invalid);
    }
}
