//! Incremental UTF-8 validation of a text message that arrives piece by piece, so an invalid
//! message is failed (close 1007) as soon as its first bad byte arrives (RFC 6455 section 8.1).

/// Advances `checked` (the length of `buf`'s prefix already known to be valid UTF-8) over the
/// bytes appended since. Returns false when `buf` is definitely invalid: an invalid sequence,
/// or, when `complete` (the message ended), a truncated one at the end.
pub(crate) fn advance(buf: &[u8], checked: &mut usize, complete: bool) -> bool {
    match std::str::from_utf8(&buf[*checked..]) {
        Ok(_) => {
            *checked = buf.len();
            true
        }
        Err(e) => {
            *checked += e.valid_up_to();
            // `error_len() == None`: only an incomplete sequence at the end, which the next
            // piece may complete.
            e.error_len().is_none() && !complete
        }
    }
}

#[cfg(test)]
mod tests {
    use super::advance;

    /// Feeds `pieces` one by one; returns the index of the piece that failed, if any.
    fn feed(pieces: &[&[u8]]) -> Option<usize> {
        let mut buf = Vec::new();
        let mut checked = 0;
        for (i, piece) in pieces.iter().enumerate() {
            buf.extend_from_slice(piece);
            if !advance(&buf, &mut checked, i + 1 == pieces.len()) {
                return Some(i);
            }
        }
        None
    }

    #[test]
    fn split_characters_are_accepted() {
        let text = "κόσμε 😀 ok".as_bytes();
        for cut in 0..text.len() {
            assert_eq!(feed(&[&text[..cut], &text[cut..]]), None, "cut {cut}");
        }
    }

    #[test]
    fn fails_at_the_first_bad_piece() {
        // Autobahn 6.4.x style: the bad byte arrives in the second of three pieces.
        let bad: &[&[u8]] = &[
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",
            b"\xf4\x90\x80\x80",
            b"edited",
        ];
        assert_eq!(feed(bad), Some(1));
        assert_eq!(feed(&[b"ok", b"\xed\xa0\x80"]), Some(1)); // a surrogate
        assert_eq!(feed(&[b"\xc0\xaf"]), Some(0)); // overlong
    }

    #[test]
    fn truncated_at_the_end_fails_only_when_complete() {
        assert_eq!(feed(&[b"a\xe2\x82", b"\xac"]), None);
        assert_eq!(feed(&[b"a\xe2\x82"]), Some(0));
    }
}
