//! `Range: bytes=...` (RFC 9110 section 14): which part of a representation a request asks for.
//! One range is served as `206`; several are allowed to be answered with the whole
//! representation (section 14.2), and are.

/// What a `Range` field value asks of a representation `len` bytes long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ranged {
    /// Serve everything with `200`: no usable range (another unit, a syntax error, several
    /// ranges, or an empty representation), which section 14.2 lets a server ignore.
    Whole,
    /// Serve bytes `start..=end` with `206 Partial Content` (section 15.3.7).
    Part {
        /// First byte, 0-based.
        start: u64,
        /// Last byte, inclusive; below the length.
        end: u64,
    },
    /// `416 Range Not Satisfiable` (section 15.5.17): the one range starts past the end, or
    /// is the empty suffix `-0`.
    Unsatisfiable,
}

/// Evaluates a `Range` field `value` (`bytes=0-9`, `bytes=10-`, `bytes=-5`; the unit is
/// case-insensitive) against a representation of `len` bytes (RFC 9110 sections 14.1.1 and
/// 14.1.2). Positions too large for a `u64` count as infinitely large.
pub(super) fn evaluate(value: &str, len: u64) -> Ranged {
    let Some((unit, set)) = value.split_once('=') else {
        return Ranged::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || len == 0 {
        return Ranged::Whole;
    }
    // A list: empty elements are allowed (RFC 9110 section 5.6.1.2).
    let mut specs = set.split(',').map(|s| s.trim_matches([' ', '\t']));
    let mut specs = specs.by_ref().filter(|s| !s.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return Ranged::Whole;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return Ranged::Whole;
    };
    match (number(first), number(last)) {
        // suffix-range: the last `n` bytes.
        (None, Some(0)) if first.is_empty() => Ranged::Unsatisfiable,
        (None, Some(n)) if first.is_empty() => Ranged::Part {
            start: len.saturating_sub(n),
            end: len - 1,
        },
        (Some(start), None) if last.is_empty() => match start < len {
            true => Ranged::Part {
                start,
                end: len - 1,
            },
            false => Ranged::Unsatisfiable,
        },
        (Some(start), Some(end)) if start <= end => match start < len {
            true => Ranged::Part {
                start,
                end: end.min(len - 1),
            },
            false => Ranged::Unsatisfiable,
        },
        // `b < a`, `-`, non-digits: an invalid range-spec.
        _ => Ranged::Whole,
    }
}

/// A `1*DIGIT`, saturating at `u64::MAX`; `None` when empty or not all digits.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::Ranged::{Part, Unsatisfiable, Whole};
    use super::*;

    #[test]
    fn single_ranges() {
        let cases = [
            ("bytes=0-9", Part { start: 0, end: 9 }),
            ("bytes=10-", Part { start: 10, end: 99 }),
            ("bytes=-5", Part { start: 95, end: 99 }),
            ("bytes=-500", Part { start: 0, end: 99 }),
            ("bytes=90-200", Part { start: 90, end: 99 }),
            ("bytes=99-99", Part { start: 99, end: 99 }),
            ("BYTES=0-0", Part { start: 0, end: 0 }),
            ("bytes= 0-9 ,", Part { start: 0, end: 9 }),
            (
                "bytes=0-99999999999999999999999",
                Part { start: 0, end: 99 },
            ),
            ("bytes=-99999999999999999999999", Part { start: 0, end: 99 }),
        ];
        for (value, expected) in cases {
            assert_eq!(evaluate(value, 100), expected, "{value:?}");
        }
    }

    #[test]
    fn unsatisfiable() {
        for value in [
            "bytes=100-",
            "bytes=999999-",
            "bytes=100-200",
            "bytes=-0",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(evaluate(value, 100), Unsatisfiable, "{value:?}");
        }
    }

    #[test]
    fn ignored() {
        for value in [
            "bytes=9-0",
            "bytes=-",
            "bytes=",
            "bytes=a-b",
            "bytes=0x1-2",
            "bytes=+1-2",
            "bytes=1",
            "items=0-9",
            "0-9",
            "bytes=0-9,20-29",
            "bytes=0-9,999-",
        ] {
            assert_eq!(evaluate(value, 100), Whole, "{value:?}");
        }
        assert_eq!(evaluate("bytes=0-9", 0), Whole, "empty representation");
    }
}
