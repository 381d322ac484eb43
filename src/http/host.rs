//! The `Host` field's value (RFC 9112 section 3.2, RFC 9110 section 7.2): `uri-host [ ":"
//! port ]` with the URI grammar of RFC 3986 section 3.2.2. Anything else is a bad request, so
//! routing domains only ever see a valid host.

use super::field::alnum_and;

/// `unreserved` (ALPHA DIGIT `-._~`) and `sub-delims` (`!$&'()*+,;=`): what a `reg-name` may
/// hold besides `%XX` (RFC 3986 sections 2.2, 2.3 and 3.2.2).
static REG_NAME: [bool; 256] = alnum_and(b"-._~!$&'()*+,;=");

/// Whether `value` (surrounding whitespace aside) is `uri-host [ ":" port ]`. An empty value
/// is valid: a client sends one when the target has no authority (RFC 9110 section 7.2).
pub(crate) fn valid(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    let (host, rest) = match value.first() {
        // IP-literal: "[" ( IPv6address / IPvFuture ) "]".
        Some(b'[') => match value.iter().position(|&b| b == b']') {
            Some(end) => (&value[..=end], &value[end + 1..]),
            None => return false,
        },
        _ => match value.iter().rposition(|&b| b == b':') {
            Some(colon) => (&value[..colon], &value[colon..]),
            None => (value, &value[value.len()..]),
        },
    };
    let port_ok = match rest {
        [] => true,
        [b':', port @ ..] => port.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    port_ok
        && match host {
            [b'[', inside @ .., b']'] => ip_literal(inside),
            _ => reg_name(host),
        }
}

/// `reg-name` (which covers `IPv4address`): unreserved, sub-delims and `%XX`.
fn reg_name(host: &[u8]) -> bool {
    let mut i = 0;
    while i < host.len() {
        match host[i] {
            b'%' => {
                let hex = host.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
            }
            b if REG_NAME[usize::from(b)] => i += 1,
            _ => return false,
        }
    }
    true
}

/// Inside the brackets: an IPv6 address (hex digits, `:`, and `.` for an embedded IPv4),
/// checked as such by the standard library, or `IPvFuture` (`v` HEXDIG+ `.` then unreserved,
/// sub-delims or `:`).
fn ip_literal(inside: &[u8]) -> bool {
    match inside {
        [b'v' | b'V', rest @ ..] => {
            let Some(dot) = rest.iter().position(|&b| b == b'.') else {
                return false;
            };
            let (version, tail) = (&rest[..dot], &rest[dot + 1..]);
            !version.is_empty()
                && version.iter().all(u8::is_ascii_hexdigit)
                && !tail.is_empty()
                && tail
                    .iter()
                    .all(|&b| b == b':' || b != b'%' && REG_NAME[usize::from(b)])
        }
        _ => std::str::from_utf8(inside)
            .ok()
            .and_then(|s| s.parse::<std::net::Ipv6Addr>().ok())
            .is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::valid;

    #[test]
    fn valid_hosts() {
        for host in [
            "example.com",
            "example.com:8080",
            "EXAMPLE.com:",
            "127.0.0.1",
            "127.0.0.1:80",
            "[::1]",
            "[::1]:443",
            "[2001:db8::ffff:192.0.2.1]:8080",
            "[v1.fe80::a+en1]",
            "xn--bcher-kva.example",
            "a%2Db.example",
            "localhost",
            "",
            "  example.com  ",
            "sub_domain.example",
        ] {
            assert!(valid(host.as_bytes()), "{host:?}");
        }
    }

    #[test]
    fn invalid_hosts() {
        for host in [
            "example.com:80:80",
            "example.com:http",
            "exa mple.com",
            "example.com/path",
            "user@example.com",
            "[::1",
            "::1",
            "[::1]x",
            "[::1]:x",
            "[not-an-address]",
            "[v1.]",
            "[vx.a]",
            "a%2",
            "a%zz",
            "example.com\0",
            "ex\"ample",
            "<script>",
            "exämple.com",
        ] {
            assert!(!valid(host.as_bytes()), "{host:?}");
        }
    }
}
