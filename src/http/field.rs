//! What may go into a response's status line and header fields: the checks that keep user
//! text from splitting a response (RFC 9110 sections 5.1 and 5.5, RFC 9112 section 4).
//!
//! They run on every `write_header`, so the usual case costs a few word operations: eight
//! bytes at a time (SWAR), no loop up to 16 bytes, no allocation. Only input outside the
//! usual alphabet (a name with `_` or `!`, a value with a tab or a control character) is
//! looked at byte by byte, exactly.

/// `tchar` (RFC 9110 section 5.6.2): DIGIT, ALPHA and ``!#$%&'*+-.^_`|~``.
static TCHAR: [bool; 256] = alnum_and(b"!#$%&'*+-.^_`|~");

/// A byte set, built at compile time: ASCII letters and digits, and the bytes of `extra`.
pub(crate) const fn alnum_and(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

/// A field name must be a `token`: one or more `tchar` (RFC 9110 section 5.1). Anything else
/// (CR, LF, SP, `:`, an empty name) would end the name early or start a new line.
#[inline]
pub(crate) fn valid_name(name: &[u8]) -> bool {
    // Letters, digits and `-` make most names.
    !name.is_empty() && (any_word(name, b'a', not_alnum_dash) == 0 || all_tchar(name))
}

/// A field value (or the status code and reason phrase) must not contain CR, LF or NUL (RFC
/// 9110 section 5.5, RFC 9112 section 4): they would end the line and start a field or a
/// body of the writer's choosing. HTAB, SP, visible ASCII and obs-text (bytes from 0x80) are
/// written as given.
#[inline]
pub(crate) fn valid_value(value: &[u8]) -> bool {
    // Most values have no byte below 0x0e at all (HTAB is the only common one).
    any_word(value, b' ', below_0e) == 0 || no_cr_lf_nul(value)
}

/// The exact name check, byte by byte (no early exit, no branch per byte).
#[cold]
#[inline(never)]
fn all_tchar(name: &[u8]) -> bool {
    name.iter().fold(true, |ok, &b| ok & TCHAR[usize::from(b)])
}

/// The exact value check, byte by byte.
#[cold]
#[inline(never)]
fn no_cr_lf_nul(value: &[u8]) -> bool {
    !value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

/// Each byte of a word set to `b`.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The high bit of each byte.
const HIGH: u64 = splat(0x80);

/// High bits of the bytes of `w` that are not ASCII letters, digits or `-`; non-zero for
/// any such byte. Every step is exact per byte (no carry crosses bytes) while all bytes are
/// below 0x80, and a byte from 0x80 makes the result non-zero by itself.
#[inline(always)]
fn not_alnum_dash(w: u64) -> u64 {
    let lower = w | splat(0x20);
    // 0x61 ..= 0x7a once the case is folded: `+ 0x1f` sets the high bit from 0x61 on,
    // `+ 0x05` from 0x7b on.
    let letter = lower.wrapping_add(splat(0x1f)) & !lower.wrapping_add(splat(0x05));
    let digit = w.wrapping_add(splat(0x50)) & !w.wrapping_add(splat(0x46));
    // Zero where the byte is `-`: the only bytes whose `+ 0x7f | itself` lacks the high bit.
    let dash = w ^ splat(b'-');
    let dash = !(dash.wrapping_add(splat(0x7f)) | dash);
    (!(letter | digit | dash) | w) & HIGH
}

/// High bits of the bytes of `w` below 0x0e: `(w - 0x0e0e..) & !w & 0x8080..` is non-zero
/// exactly when some byte is (a borrow can only start at such a byte).
#[inline(always)]
fn below_0e(w: u64) -> u64 {
    w.wrapping_sub(splat(0x0e)) & !w & HIGH
}

/// ORs `check` over little-endian words covering every byte of `bytes` (overlapping where
/// the length is not a multiple of 8; 1 to 3 bytes completed with `pad`, which must pass).
/// No loop up to 16 bytes.
#[inline(always)]
fn any_word(bytes: &[u8], pad: u8, check: impl Fn(u64) -> u64) -> u64 {
    let n = bytes.len();
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or_default());
    if n > 16 {
        let mut found = check(word(n - 8));
        let mut i = 0;
        while i + 8 < n {
            found |= check(word(i));
            i += 8;
        }
        found
    } else if n >= 8 {
        check(word(0)) | check(word(n - 8))
    } else if n >= 4 {
        let half = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or_default());
        check(u64::from(half(0)) | u64::from(half(n - 4)) << 32)
    } else if n > 0 {
        // The first, middle and last byte cover 1 to 3 bytes.
        let three =
            u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16;
        check(three | splat(pad) << 24)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tokens() {
        for name in [
            "X-Test",
            "Content-Type",
            "a",
            "0",
            "!#$%&'*+-.^_`|~",
            "Sec-WebSocket-Protocol",
        ] {
            assert!(valid_name(name.as_bytes()), "{name:?}");
        }
        for name in [
            "",
            "X Test",
            "X-Test:",
            ":status",
            "X-Test\r\nInjected",
            "X\n",
            "X\r",
            "X\0",
            "X\t",
            "(x)",
            "a,b",
            "a/b",
            "a@b",
            "a\"b",
            "é",
        ] {
            assert!(!valid_name(name.as_bytes()), "{name:?}");
        }
        assert!(!valid_name(&[0x80]));
        assert!(!valid_name(&[0x7f]));
    }

    #[test]
    fn every_byte_of_a_name() {
        for b in 0..=255u8 {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(valid_name(&[b]), tchar, "{b:#04x}");
            assert_eq!(valid_name(&[b'a', b, b'z']), tchar, "{b:#04x}");
        }
    }

    #[test]
    fn values_have_no_cr_lf_or_nul() {
        for value in [
            "",
            "text/plain; charset=utf-8",
            "a\tb c",
            " leading and trailing ",
            "\u{e9}\u{7f}\u{1}~",
            "200 OK",
        ] {
            assert!(valid_value(value.as_bytes()), "{value:?}");
        }
        assert!(valid_value(&[0x80, 0xff, b'\t', 0x7f]));
        for value in [
            "a\r\nInjected: value",
            "a\nb",
            "a\rb",
            "a\0b",
            "\r",
            "\n",
            "\0",
            "200 OK\r\n",
        ] {
            assert!(!valid_value(value.as_bytes()), "{value:?}");
        }
        // Wherever the byte sits, also past the first vector's width.
        for len in [1, 15, 16, 17, 31, 32, 33, 64, 100] {
            for pos in 0..len {
                for bad in [b'\r', b'\n', 0] {
                    let mut value = vec![b'v'; len];
                    value[pos] = bad;
                    assert!(!valid_value(&value), "{len} {pos} {bad}");
                }
            }
            assert!(valid_value(&vec![b'v'; len]));
        }
    }

    #[test]
    fn every_length_and_position() {
        for len in 0..40 {
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut bytes = vec![b'v'; len];
                    bytes[pos] = b;
                    let below = any_word(&bytes, b' ', below_0e) != 0;
                    assert_eq!(below, b < 0x0e, "{len} {pos} {b}");
                    let other = !b.is_ascii_alphanumeric() && b != b'-';
                    let found = any_word(&bytes, b'a', not_alnum_dash) != 0;
                    assert_eq!(found, other, "{len} {pos} {b}");
                    let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
                    assert_eq!(valid_name(&bytes), tchar, "{len} {pos} {b}");
                    let value = !matches!(b, b'\r' | b'\n' | 0);
                    assert_eq!(valid_value(&bytes), value, "{len} {pos} {b}");
                }
            }
        }
    }

    #[test]
    fn random_bytes_agree_with_the_definitions() {
        // Mixed bytes (high ones next to low ones: carries) against the byte-wise rules.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"aZ09-_.!~:; \t\r\n\0\x7f\x80\xff\x0d\x0e\x2f\x40\x5b\x60\x7b\x1f\x20";
        for _ in 0..200_000 {
            let len = (next() % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match next() % 3 {
                    0 => alphabet[(next() % alphabet.len() as u64) as usize],
                    1 => b"Content-Type"[(next() % 12) as usize],
                    _ => next() as u8,
                })
                .collect();
            let tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
            let name = !bytes.is_empty() && bytes.iter().all(tchar);
            assert_eq!(valid_name(&bytes), name, "{bytes:?}");
            let value = !bytes.iter().any(|b| matches!(b, b'\r' | b'\n' | 0));
            assert_eq!(valid_value(&bytes), value, "{bytes:?}");
        }
    }

    #[test]
    fn every_byte_of_a_value() {
        for b in 0..=255u8 {
            let bad = matches!(b, b'\r' | b'\n' | 0);
            assert_eq!(valid_value(&[b]), !bad, "{b:#04x}");
        }
    }
}
