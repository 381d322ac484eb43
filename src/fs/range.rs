//! The `Range` field (RFC 9110 section 14.2): one byte range is served (`206`); several, or a
//! field that does not parse, are ignored (the whole representation is sent, as the RFC
//! allows); a range that starts past the end is unsatisfiable (`416`).

/// What a `Range` field asks of a representation of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// The whole representation (no field, one we ignore, or several ranges).
    Whole,
    /// Bytes `start..end` (end exclusive).
    Part { start: u64, end: u64 },
    /// No byte of the representation is in range (RFC 9110 section 15.5.17).
    Unsatisfiable,
}

/// Parses `field` (`bytes=a-b`, `bytes=a-`, `bytes=-n`) against a length of `len` bytes.
pub(crate) fn wanted(field: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = field.and_then(|f| f.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let parse = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim(), last.trim()) {
        ("", suffix) => match parse(suffix) {
            Some(n) if n == 0 || len == 0 => Wanted::Unsatisfiable,
            Some(n) => Wanted::Part {
                start: len.saturating_sub(n),
                end: len,
            },
            None => Wanted::Whole,
        },
        (start, end) => match (parse(start), end) {
            (Some(start), _) if start >= len => Wanted::Unsatisfiable,
            (Some(start), "") => Wanted::Part { start, end: len },
            (Some(start), end) => match parse(end) {
                Some(last) if last >= start => Wanted::Part {
                    start,
                    end: last.saturating_add(1).min(len),
                },
                _ => Wanted::Whole,
            },
            (None, _) => Wanted::Whole,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges() {
        let part = |start, end| Wanted::Part { start, end };
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), part(0, 10));
        assert_eq!(wanted(Some("bytes=10-"), 100), part(10, 100));
        assert_eq!(wanted(Some("bytes=-5"), 100), part(95, 100));
        assert_eq!(wanted(Some("bytes=-500"), 100), part(0, 100));
        assert_eq!(wanted(Some("bytes=90-200"), 100), part(90, 100));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=9-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=x-1"), 100), Wanted::Whole);
    }
}
