//! Query-string helpers, application/x-www-form-urlencoded style (RFC 3986 §3.4, §2.1).

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// Value of the first `key` in `query` (the part after `?`, without it; RFC 3986 §3.4), `+` as
/// space and `%XX` percent-decoded (invalid UTF-8 replaced lossily). Keys are compared after
/// decoding; empty pairs are skipped. Returns Borrowed when no decoding was needed. `key` with
/// no `=` yields `Some("")`.
pub(crate) fn query_value<'a>(query: &'a str, key: &str) -> Option<Cow<'a, str>> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .find_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(name) == key).then(|| decode_component(value))
        })
}

/// Percent- (RFC 3986 §2.1) and `+`-decodes one component; malformed `%` sequences stay literal
/// and invalid UTF-8 is replaced lossily. Borrows `raw` when it has no `%` and no `+`.
pub(crate) fn decode_component(raw: &str) -> Cow<'_, str> {
    if !raw.contains('+') {
        // Borrowed unless a valid `%XX` escape was actually decoded.
        return percent_decode_str(raw).decode_utf8_lossy();
    }
    let spaced = raw.replace('+', " ");
    let decoded = match percent_decode_str(&spaced).decode_utf8_lossy() {
        Cow::Owned(s) => Some(s),
        Cow::Borrowed(_) => None,
    };
    Cow::Owned(decoded.unwrap_or(spaced))
}

#[cfg(test)]
mod tests {
    //! Tests for query-string decoding (RFC 3986 §2.1, §3.4).
    use super::{decode_component, query_value};
    use std::borrow::Cow;

    /// Shorthand: the looked-up value as an owned `Option<String>`.
    fn get(query: &str, key: &str) -> Option<String> {
        query_value(query, key).map(Cow::into_owned)
    }

    /// Plain pairs are found and borrowed from the query.
    #[test]
    fn simple_pairs() {
        assert_eq!(get("a=1&b=2", "a").as_deref(), Some("1"));
        assert_eq!(get("a=1&b=2", "b").as_deref(), Some("2"));
        assert_eq!(get("a=1&b=2", "c"), None);
        assert!(matches!(
            query_value("a=1&b=2", "b"),
            Some(Cow::Borrowed("2"))
        ));
        assert_eq!(get("a=1=2", "a").as_deref(), Some("1=2"));
        assert_eq!(get("", "a"), None);
    }

    /// The first of repeated keys wins.
    #[test]
    fn repeated_keys() {
        assert_eq!(get("a=1&a=2", "a").as_deref(), Some("1"));
        assert_eq!(get("b=0&a=&a=2", "a").as_deref(), Some(""));
    }

    /// A key without `=` yields an empty value; empty pairs are skipped.
    #[test]
    fn bare_key_and_empty_pairs() {
        assert!(matches!(
            query_value("x=1&a&b=2", "a"),
            Some(Cow::Borrowed(""))
        ));
        assert_eq!(get("&&a=1&&", "a").as_deref(), Some("1"));
        assert_eq!(get("&&", ""), None);
        assert_eq!(get("=v", "").as_deref(), Some("v"));
    }

    /// `+` becomes space, but an encoded `%2B` stays a plus.
    #[test]
    fn plus() {
        assert_eq!(get("q=a+b", "q").as_deref(), Some("a b"));
        assert_eq!(decode_component("a%2Bb+c"), "a+b c");
        assert!(matches!(decode_component("a+b"), Cow::Owned(_)));
    }

    /// `%XX` escapes decode, including multi-byte UTF-8.
    #[test]
    fn percent() {
        assert_eq!(get("q=a%20b", "q").as_deref(), Some("a b"));
        assert_eq!(get("q=%E2%82%AC", "q").as_deref(), Some("€"));
        assert_eq!(decode_component("%e2%82%ac+%41"), "€ A");
    }

    /// Malformed escapes stay literal and stay borrowed.
    #[test]
    fn malformed_percent() {
        assert!(matches!(decode_component("%zz"), Cow::Borrowed("%zz")));
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%4"), "%4");
        assert_eq!(decode_component("%zz+%41"), "%zz A");
    }

    /// Invalid UTF-8 after decoding is replaced with U+FFFD.
    #[test]
    fn invalid_utf8() {
        assert_eq!(decode_component("%FF"), "\u{FFFD}");
        assert_eq!(get("q=a%C3%28b", "q").as_deref(), Some("a\u{FFFD}(b"));
        assert_eq!(decode_component("%E2%82+"), "\u{FFFD} ");
    }

    /// Keys are compared after decoding.
    #[test]
    fn decoded_key() {
        assert_eq!(get("a%20b=1", "a b").as_deref(), Some("1"));
        assert_eq!(get("a+b=2", "a b").as_deref(), Some("2"));
        assert_eq!(get("a%20b=1", "a%20b"), None);
    }

    /// Components without `%` or `+` are returned borrowed, unallocated.
    #[test]
    fn no_alloc_fast_path() {
        let raw = "plain-text_~.";
        match decode_component(raw) {
            Cow::Borrowed(s) => assert_eq!(s.as_ptr(), raw.as_ptr()),
            Cow::Owned(_) => panic!("allocated"),
        }
    }
}
